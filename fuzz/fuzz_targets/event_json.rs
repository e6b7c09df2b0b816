//! Arbitrary bytes as a MISP JSON document: reading must never panic, and
//! what it reads must hold the loader's invariants; the borrowed readers
//! (`stream_slice_borrowed`, `Document`) must read what the owned ones read.

#![no_main]

use std::ops::ControlFlow;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use misp_core::json::{self, LoadSummary};

fuzz_target!(|data: &[u8]| {
    let mut items = Vec::new();
    json::stream_slice(data, Path::new("fuzz.json"), |item| {
        items.push(item);
        ControlFlow::Continue(())
    });
    let events: Vec<_> = items.iter().filter_map(|item| item.as_ref().ok()).collect();

    // `parse_events` is all or nothing over the same items.
    match json::parse_events(data) {
        Ok(all) => {
            assert!(items.iter().all(Result::is_ok));
            assert_eq!(all.iter().collect::<Vec<_>>(), events);
        }
        Err(_) => assert!(items.iter().any(Result::is_err)),
    }

    // The borrowed readers give the same items: events that own the
    // same content, errors with the same messages.
    let owned_text = |item: &misp_core::Result<misp_core::Event>| match item {
        Ok(event) => format!("{event:?}"),
        Err(error) => error.to_string(),
    };
    let expected: Vec<String> = items.iter().map(owned_text).collect();
    let mut borrowed = Vec::new();
    json::stream_slice_borrowed(data, Path::new("fuzz.json"), |item| {
        borrowed.push(owned_text(&item.map(|event| event.into_event())));
        ControlFlow::Continue(())
    });
    assert_eq!(borrowed, expected);
    let document = json::Document::parse(data.to_vec(), "fuzz.json");
    let from_document: Vec<String> = document
        .events()
        .iter()
        .map(|item| match item {
            Ok(event) => format!("{:?}", event.to_event()),
            Err(error) => error.to_string(),
        })
        .collect();
    assert_eq!(from_document, expected);

    // The buffered-reader path reads the same events.
    if !data.starts_with(b"\xEF\xBB\xBF") {
        let mut from_reader = Vec::new();
        json::stream_reader(data, Path::new("fuzz.json"), |item| {
            if let Ok(event) = item {
                from_reader.push(event);
            }
            ControlFlow::Continue(())
        });
        assert_eq!(from_reader.iter().collect::<Vec<_>>(), events);
    }

    let mut summary = LoadSummary::new();
    for event in &events {
        assert_eq!(event.uuid.len(), 36, "{}", event.uuid);
        assert!(event.distribution <= 4);
        assert!(event.sharing_group_id.is_none() || event.distribution == 4);
        assert!(!event.info.trim().is_empty());
        for a in event.all_attributes() {
            assert!(a.attribute.distribution <= 5);
            assert!(a.attribute.sharing_group_id.is_none() || a.attribute.distribution == 4);
            assert!(!a.key(event).is_empty());
        }
        summary.add_event(event);
    }
    assert_eq!(summary.events(), events.len());
});
