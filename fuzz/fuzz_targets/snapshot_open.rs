//! Opens damaged warninglist snapshots: any byte string must give an error
//! or a snapshot that answers queries (and `verify`) without panicking.
//!
//! Seed corpus: `testdata/snapshots/warninglists-v1.snap`; the target also
//! builds a valid image and applies the fuzzer's bytes as edits to it, so
//! most inputs get past the header checks.

#![no_main]

#[path = "common/damage.rs"]
mod damage;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use misp_correlate::snapshot::WarninglistSnapshot;
use misp_correlate::warninglist::{ListType, MatcherBuilder, Query, ToIdsGate, Warninglist};

fn valid_image() -> &'static [u8] {
    static IMAGE: OnceLock<Vec<u8>> = OnceLock::new();
    IMAGE.get_or_init(|| {
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
            let _ = builder.add(list);
        }
        let Ok((matcher, _)) = builder.build() else {
            return Vec::new();
        };
        let path = std::env::temp_dir().join(format!("fuzz-snapshot-{}.snap", std::process::id()));
        let _ = WarninglistSnapshot::save_matcher(&matcher, &path);
        let image = std::fs::read(&path).unwrap_or_default();
        let _ = std::fs::remove_file(&path);
        image
    })
}

fn exercise(bytes: Vec<u8>) {
    if let Ok(snapshot) = WarninglistSnapshot::from_bytes(bytes, "fuzz.snap") {
        let _ = snapshot.verify();
        let _ = snapshot.info();
        for (ty, value) in [
            ("domain", "www.example.com"),
            ("ip-dst", "10.1.2.3"),
            ("ip-src", "2001:db8::1/64"),
            ("text", "very evil"),
            ("text", "AAB"),
            ("domain|ip", "test.org|10.0.0.1"),
        ] {
            let _ = snapshot.check_query(Query::new(ty, value), ToIdsGate::Off);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // Raw bytes as a file.
    exercise(data.to_vec());
    // Edits to a valid image: (offset u16, byte) pairs.
    if let Some(image) = damage::edited(valid_image(), data) {
        exercise(image);
    }
});
