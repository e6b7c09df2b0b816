//! MISP JSON reading: document shapes, lenient scalars, MISP's defaults,
//! refusals, errors with positions, feeds and directories.

use std::fs;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use misp_core::json::{self, Document, Inputs, LoadSummary, ParallelDocuments, ParallelInputs};
use std::borrow::Cow;

use misp_core::{BorrowedEvent, Error, Event};

const EVENT_UUID: &str = "5a4cb19a-f550-437f-bd29-48ed950d210f";

fn one_event(json: &str) -> Event {
    let mut events = json::parse_events(json.as_bytes()).unwrap();
    assert_eq!(events.len(), 1, "{json}");
    events.remove(0)
}

/// Every item (event or error) of a document, in order.
fn stream(json: &str) -> Vec<Result<Event, Error>> {
    let mut items = Vec::new();
    json::stream_slice(json.as_bytes(), Path::new("doc.json"), |item| {
        items.push(item);
        ControlFlow::Continue(())
    });
    items
}

/// A fresh empty directory under the target directory.
fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("json-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn event_doc(uuid: &str, info: &str, values: &[&str]) -> String {
    let attributes: Vec<String> = values
        .iter()
        .map(|v| format!(r#"{{"type": "domain", "category": "Network activity", "value": "{v}"}}"#))
        .collect();
    format!(
        r#"{{"Event": {{"uuid": "{uuid}", "info": "{info}", "Attribute": [{}]}}}}"#,
        attributes.join(",")
    )
}

// ---------------------------------------------------------------------
// Document shapes
// ---------------------------------------------------------------------

#[test]
fn wrapped_event_with_every_field() {
    let event = one_event(
        r##"{"Event": {
            "id": "6719", "uuid": "5A4CB19A-F550-437F-BD29-48ED950D210F", "info": "Test",
            "date": "2018-01-04", "published": true, "distribution": "4", "sharing_group_id": "7",
            "org_id": "1", "orgc_id": "2", "disable_correlation": "0", "timestamp": "1515081727",
            "Org": {"id": "1", "name": "CIRCL", "uuid": "55f6ea5e-2c60-40e5-964f-47a8950d210f"},
            "Orgc": {"name": "TweetFeed", "uuid": "76a67249-f941-5bdb-925a-51045a921c1e"},
            "Tag": [{"name": "tlp:clear", "colour": "#FFFFFF"}, {"name": "type:OSINT"}],
            "Attribute": [{
                "id": "42", "uuid": "fb6eb163-c2a9-5874-9199-5b4dfba07e3c", "type": "domain",
                "category": "Network activity", "value": "Context.ai", "to_ids": "1",
                "distribution": "5", "sharing_group_id": "0", "disable_correlation": false,
                "deleted": "0", "comment": "https://x.com/JRoosen/status/2046379888035172507",
                "timestamp": 1776729959, "first_seen": "2026-04-20T00:00:00+00:00", "last_seen": null,
                "Tag": [{"name": "malware"}]
            }],
            "Object": [{
                "id": "3", "uuid": "b4d6f1c2-0000-4000-8000-000000000001", "name": "file",
                "distribution": 3, "deleted": "1",
                "Attribute": [{"type": "md5", "value": "a8ba23fe226c0220aded7950d4065231"}]
            }]
        }}"##,
    );
    assert_eq!(event.id, Some(6719));
    assert_eq!(event.uuid, EVENT_UUID, "uuids are lower-cased");
    assert_eq!(event.info, "Test");
    assert_eq!(event.date, "2018-01-04");
    assert!(event.published);
    assert_eq!(event.distribution, 4);
    assert_eq!(event.sharing_group_id, Some(7));
    assert_eq!(event.org.id, Some(1));
    assert_eq!(event.org.name.as_deref(), Some("CIRCL"));
    assert_eq!(event.orgc.id, Some(2), "orgc_id fills the id Orgc lacks");
    assert_eq!(event.orgc.name.as_deref(), Some("TweetFeed"));
    assert!(!event.disable_correlation);
    assert_eq!(event.timestamp, Some(1515081727));
    let tags: Vec<&str> = event.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tags, ["tlp:clear", "type:OSINT"]);

    let a = &event.attributes[0];
    assert_eq!(a.id, Some(42));
    assert_eq!(
        a.uuid.as_deref(),
        Some("fb6eb163-c2a9-5874-9199-5b4dfba07e3c")
    );
    assert_eq!(a.type_name, "domain");
    assert_eq!(a.category.as_deref(), Some("Network activity"));
    assert_eq!(a.value, "Context.ai", "values stay raw");
    assert!(a.to_ids);
    assert_eq!(a.distribution, 5);
    assert_eq!(a.sharing_group_id, None);
    assert!(!a.disable_correlation);
    assert!(!a.deleted);
    assert_eq!(
        a.comment,
        "https://x.com/JRoosen/status/2046379888035172507"
    );
    assert_eq!(a.timestamp, Some(1776729959));
    assert_eq!(a.first_seen.as_deref(), Some("2026-04-20T00:00:00+00:00"));
    assert_eq!(a.last_seen, None);
    assert_eq!(a.tags[0].name, "malware");

    let o = &event.objects[0];
    assert_eq!(o.id, Some(3));
    assert_eq!(o.name, "file");
    assert_eq!(o.distribution, 3);
    assert!(o.deleted);
    assert_eq!(o.attributes[0].type_name, "md5");
    assert_eq!(event.attribute_count(), 2);
}

#[test]
fn every_wrapper_shape_gives_the_same_events() {
    let a = r#"{"uuid": "5a4cb19a-f550-437f-bd29-48ed950d2101", "info": "a"}"#;
    let b = r#"{"uuid": "5a4cb19a-f550-437f-bd29-48ed950d2102", "info": "b"}"#;
    let shapes = [
        format!(r#"[{{"Event": {a}}}, {{"Event": {b}}}]"#),
        format!(r#"{{"response": [{{"Event": {a}}}, {{"Event": {b}}}]}}"#),
        format!(r#"{{"response": [{a}, {b}]}}"#),
        format!(r#"{{"response": [{{"Event": {a}}}, {b}]}}"#),
        format!(r#"[{a}, {b}]"#),
        format!(r#"[{{"response": [{{"Event": {a}}}]}}, {{"Event": {b}}}]"#),
    ];
    for shape in &shapes {
        let events = json::parse_events(shape.as_bytes()).unwrap();
        let infos: Vec<&str> = events.iter().map(|e| e.info.as_str()).collect();
        assert_eq!(infos, ["a", "b"], "{shape}");
    }
    assert_eq!(one_event(a).info, "a", "a bare event");
    assert_eq!(
        one_event(&format!(r#"{{"response": {{"Event": {a}}}}}"#)).info,
        "a"
    );
}

#[test]
fn empty_documents_have_no_events() {
    assert!(json::parse_events(b"[]").unwrap().is_empty());
    assert!(
        json::parse_events(br#"{"response": []}"#)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn unknown_and_ignored_fields_are_skipped() {
    let event = one_event(
        r#"{"Event": {"info": "x", "threat_level_id": "4", "analysis": {"deep": [1, 2, {"x": null}]},
            "ShadowAttribute": [{"type": "ip-dst", "value": "192.0.2.1"}],
            "Galaxy": [{"GalaxyCluster": [{"value": "Milk in tea", "meta": {"kill_chain": ["tea:black"]}}]}],
            "RelatedEvent": [{"Event": {"info": "not this one"}}],
            "Attribute": [{"type": "ip-dst", "value": "192.0.2.2", "object_relation": null,
                "ShadowAttribute": [{"type": "ip-dst", "value": "192.0.2.3"}],
                "Sighting": [{"type": "0", "date_sighting": "1"}], "data": "ewp9Cg=="}],
            "Object": [{"name": "file", "ObjectReference": [{"referenced_uuid": "b"}], "template_version": 25,
                "Attribute": [{"type": "filename", "value": "bar.exe"}]}]}}"#,
    );
    let values: Vec<&str> = event
        .all_attributes()
        .map(|a| a.attribute.value.as_str())
        .collect();
    assert_eq!(
        values,
        ["192.0.2.2", "bar.exe"],
        "shadow attributes and related events are not read"
    );
}

#[test]
fn nulls_mean_not_given() {
    let event = one_event(
        r#"{"info": "x", "distribution": null, "Tag": null, "Org": null, "Object": null,
            "Attribute": [{"type": "comment", "value": "v", "to_ids": null, "distribution": null,
                "comment": null, "timestamp": null, "uuid": null, "category": null, "Tag": null}]}"#,
    );
    assert_eq!(event.distribution, 1);
    let a = &event.attributes[0];
    assert_eq!(a.distribution, 5);
    assert_eq!(a.comment, "");
    assert_eq!(a.uuid, None);
    assert_eq!(a.category, None);
    assert!(a.tags.is_empty());
}

// ---------------------------------------------------------------------
// Lenient scalars
// ---------------------------------------------------------------------

#[test]
fn booleans_in_every_spelling() {
    for (spelling, expected) in [
        ("true", true),
        ("false", false),
        ("1", true),
        ("0", false),
        (r#""1""#, true),
        (r#""0""#, false),
        (r#""true""#, true),
        (r#""False""#, false),
    ] {
        let event = one_event(&format!(
            r#"{{"info": "x", "published": {spelling}, "Attribute": [{{"type": "text", "value": "v", "to_ids": {spelling}, "deleted": {spelling}}}]}}"#
        ));
        assert_eq!(event.published, expected, "{spelling}");
        assert_eq!(event.attributes[0].to_ids, expected, "{spelling}");
        assert_eq!(event.attributes[0].deleted, expected, "{spelling}");
    }
}

#[test]
fn numbers_as_numbers_or_strings() {
    for spelling in ["3", r#""3""#] {
        let event = one_event(&format!(
            r#"{{"info": "x", "distribution": {spelling}, "id": {spelling}}}"#
        ));
        assert_eq!(event.distribution, 3);
        assert_eq!(event.id, Some(3));
    }
    for spelling in ["1776729959", r#""1776729959""#] {
        let event = one_event(&format!(r#"{{"info": "x", "timestamp": {spelling}}}"#));
        assert_eq!(event.timestamp, Some(1776729959));
    }
    assert_eq!(
        one_event(r#"{"info": "x", "timestamp": "-5"}"#).timestamp,
        Some(-5)
    );
    assert_eq!(
        one_event(r#"{"info": "x", "timestamp": ""}"#).timestamp,
        None
    );
}

#[test]
fn text_fields_accept_numbers() {
    let event = one_event(
        r#"{"info": 2024, "Attribute": [{"type": "port", "value": 443}, {"type": "float", "value": 1.5}]}"#,
    );
    assert_eq!(event.info, "2024");
    assert_eq!(event.attributes[0].value, "443");
    assert_eq!(event.attributes[1].value, "1.5");
}

// ---------------------------------------------------------------------
// MISP's defaults
// ---------------------------------------------------------------------

#[test]
fn misp_defaults_for_missing_fields() {
    let event = one_event(
        r#"{"info": "x", "Attribute": [
            {"type": "ip-dst", "value": "192.0.2.1"},
            {"type": "comment", "value": "a comment"},
            {"type": "no-such-type", "value": "v"}],
          "Object": [{"name": "file", "Attribute": [{"type": "md5", "value": "a8ba23fe226c0220aded7950d4065231"}]}]}"#,
    );
    assert_eq!(event.distribution, 1, "MISP.default_event_distribution");
    assert!(!event.published);
    assert_eq!(event.objects[0].distribution, 5);
    let [ip, comment, unknown] = &event.attributes[..] else {
        panic!("three attributes")
    };
    assert_eq!(
        ip.distribution, 5,
        "MISP.default_attribute_distribution = event"
    );
    assert!(ip.to_ids, "ip-dst's default to_ids");
    assert!(!comment.to_ids, "comment's default to_ids");
    assert!(!unknown.to_ids);
    assert!(
        event.objects[0].attributes[0].to_ids,
        "md5's default to_ids"
    );
    assert_eq!(ip.category, None, "the category stays as written");
}

#[test]
fn sharing_groups_only_count_with_distribution_4() {
    let event = one_event(
        r#"{"info": "x", "distribution": 3, "sharing_group_id": "9",
            "Attribute": [{"type": "text", "value": "a", "distribution": 4, "sharing_group_id": "5"},
                          {"type": "text", "value": "b", "distribution": "1", "sharing_group_id": 5},
                          {"type": "text", "value": "c", "distribution": 4, "sharing_group_id": "0"}]}"#,
    );
    assert_eq!(event.sharing_group_id, None);
    assert_eq!(event.attributes[0].sharing_group_id, Some(5));
    assert_eq!(event.attributes[1].sharing_group_id, None);
    assert_eq!(
        event.attributes[2].sharing_group_id, None,
        "0 is MISP's 'none'"
    );
    let event = one_event(
        r#"{"info": "x", "distribution": 4, "SharingGroup": {"id": "12", "name": "sg"}}"#,
    );
    assert_eq!(
        event.sharing_group_id,
        Some(12),
        "SharingGroup.id when sharing_group_id is absent"
    );
}

#[test]
fn value_from_value1_and_value2() {
    let event = one_event(
        r#"{"info": "x", "Attribute": [
            {"type": "domain|ip", "value1": "example.com", "value2": "192.0.2.1"},
            {"type": "domain", "value1": "example.org", "value2": ""},
            {"type": "domain", "value": "kept.example", "value1": "ignored"}]}"#,
    );
    let values: Vec<&str> = event.attributes.iter().map(|a| a.value.as_str()).collect();
    assert_eq!(
        values,
        ["example.com|192.0.2.1", "example.org", "kept.example"]
    );
}

#[test]
fn image_attachments_do_not_correlate_by_default() {
    let event = one_event(
        r#"{"info": "x", "Attribute": [
            {"type": "attachment", "value": "shot.PNG"},
            {"type": "attachment", "value": "shot.png", "disable_correlation": false},
            {"type": "attachment", "value": "payload.exe"},
            {"type": "filename", "value": "shot.png"}]}"#,
    );
    let flags: Vec<bool> = event
        .attributes
        .iter()
        .map(|a| a.disable_correlation)
        .collect();
    assert_eq!(flags, [true, false, false, false]);
}

// ---------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------

#[test]
fn attribute_identity_is_uuid_or_event_position() {
    let event = one_event(&format!(
        r#"{{"uuid": "{EVENT_UUID}", "info": "x",
            "Object": [{{"name": "o", "Attribute": [{{"type": "text", "value": "c"}}, {{"type": "text", "value": "d", "uuid": "AAAAAAAA-0000-4000-8000-000000000000"}}]}}],
            "Attribute": [{{"type": "text", "value": "a"}}, {{"type": "text", "value": "b", "uuid": ""}}]}}"#
    ));
    let keys: Vec<String> = event.all_attributes().map(|a| a.key(&event)).collect();
    assert_eq!(
        keys,
        [
            format!("{EVENT_UUID}:0"),
            format!("{EVENT_UUID}:1"),
            format!("{EVENT_UUID}:2"),
            "aaaaaaaa-0000-4000-8000-000000000000".to_owned(),
        ]
    );
}

#[test]
fn an_event_without_uuid_gets_a_stable_derived_one() {
    let doc = r#"[{"info": "same"}, {"info": "same"}, {"info": "other"}]"#;
    let first = json::parse_events(doc.as_bytes()).unwrap();
    let again = json::parse_events(doc.as_bytes()).unwrap();
    let uuids: Vec<&str> = first.iter().map(|e| e.uuid.as_str()).collect();
    assert_eq!(
        uuids,
        again.iter().map(|e| e.uuid.as_str()).collect::<Vec<_>>(),
        "deterministic"
    );
    assert_ne!(uuids[0], uuids[1], "the position counts");
    assert_ne!(uuids[0], uuids[2]);
    for uuid in uuids {
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "8", "a version-8 UUID: {uuid}");
    }
}

// ---------------------------------------------------------------------
// Refusals and errors
// ---------------------------------------------------------------------

#[test]
fn an_event_without_info_is_refused_alone() {
    let items = stream(&format!(
        r#"{{"response": [{{"Event": {{"info": "first"}}}}, {{"Event": {{"uuid": "{EVENT_UUID}", "info": "  "}}}}, {{"Event": {{"info": "third"}}}}]}}"#
    ));
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().unwrap().info, "first");
    match &items[1] {
        Err(Error::Invalid { path, message }) => {
            assert_eq!(path, Path::new("doc.json"));
            assert!(message.contains("event 2"), "{message}");
            assert!(message.contains(EVENT_UUID), "{message}");
            assert!(message.contains("info"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(items[2].as_ref().unwrap().info, "third");
}

#[test]
fn non_events_are_refused() {
    for doc in [
        "{}",
        r#"{"timestamp": "11111111", "type": "bar", "value": "1"}"#,
        r#"{"name": "Tea Matrix", "GalaxyCluster": []}"#,
    ] {
        let items = stream(doc);
        assert!(
            matches!(&items[..], [Err(Error::Invalid { .. })]),
            "{doc}: {items:?}"
        );
    }
}

#[test]
fn an_invalid_event_uuid_is_refused() {
    let items = stream(r#"[{"uuid": "a", "info": "x"}, {"info": "y"}]"#);
    match &items[0] {
        Err(Error::Invalid { message, .. }) => {
            assert!(message.contains("\"a\" is not a valid UUID"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(items[1].is_ok());
}

#[test]
fn malformed_json_names_file_line_and_column() {
    let doc = "{\"response\": [\n  {\"Event\": {\"info\": \"good\"}},\n  {\"Event\": {\"info\": \"bad\",}}\n]}";
    let items = stream(doc);
    assert_eq!(
        items.len(),
        2,
        "the good event is delivered, then the error"
    );
    assert_eq!(items[0].as_ref().unwrap().info, "good");
    match &items[1] {
        Err(Error::Json {
            path,
            line,
            column,
            message,
        }) => {
            assert_eq!(path, Path::new("doc.json"));
            assert_eq!(*line, 3);
            assert!(*column > 20, "column {column}");
            assert!(
                !message.contains(" at line "),
                "the position is not repeated: {message}"
            );
        }
        other => panic!("{other:?}"),
    }
    let error = json::parse_events(doc.as_bytes()).unwrap_err();
    assert!(error.to_string().starts_with("<input>:3:"), "{error}");
}

#[test]
fn values_of_the_wrong_shape_are_errors_with_positions() {
    for (doc, needle) in [
        (r#"{"info": "x", "distribution": "abc"}"#, "abc"),
        (
            r#"{"info": "x", "distribution": 5}"#,
            "distribution 5 is out of range (MISP accepts 0 to 4)",
        ),
        (
            r#"{"info": "x", "Attribute": [{"type": "t", "value": "v", "distribution": "6"}]}"#,
            "out of range",
        ),
        (
            r#"{"info": "x", "Attribute": [{"type": "t", "value": "v", "to_ids": "yes"}]}"#,
            "yes",
        ),
        (
            r#"{"info": "x", "Attribute": [{"type": "t", "value": "v", "to_ids": 2}]}"#,
            "2",
        ),
        (r#"{"info": "x", "timestamp": "12:00"}"#, "12:00"),
        (r#"{"info": "x", "id": -1}"#, "-1"),
        (r#"{"info": "x", "id": 1.5}"#, "1.5"),
        (r#"{"info": "x", "Attribute": "192.0.2.1"}"#, "list"),
        (r#"{"info": ["x"]}"#, "string"),
        (r#""just a string""#, "MISP event document"),
        (r#"{"info": "x"} trailing"#, "trailing"),
    ] {
        match json::parse_events(doc.as_bytes()) {
            Err(Error::Json {
                line,
                column,
                message,
                ..
            }) => {
                assert_eq!(line, 1, "{doc}");
                assert!(column > 0, "{doc}");
                assert!(message.contains(needle), "{doc}: {message}");
            }
            other => panic!("{doc}: {other:?}"),
        }
    }
}

#[test]
fn invalid_utf8_is_an_error_with_position() {
    let doc = b"{\"info\": \"x\xff\"}";
    match json::parse_events(doc) {
        Err(Error::Json {
            line: 1, column, ..
        }) => assert!(column > 0),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let events = json::parse_events(b"\xEF\xBB\xBF{\"info\": \"x\"}").unwrap();
    assert_eq!(events[0].info, "x");
}

#[test]
fn the_sink_can_stop_early() {
    let doc = r#"[{"info": "a"}, {"info": "b"}, {"info": "c"}]"#;
    let mut seen = Vec::new();
    json::stream_slice(doc.as_bytes(), Path::new("doc.json"), |item| {
        seen.push(item);
        ControlFlow::Break(())
    });
    assert_eq!(seen.len(), 1, "no further event and no error after Break");
    assert!(seen[0].is_ok());
}

#[test]
fn a_reader_streams_like_a_slice() {
    let mut doc = String::from(r#"{"response": ["#);
    for i in 0..500 {
        if i > 0 {
            doc.push(',');
        }
        doc.push_str(&format!(
            r#"{{"Event": {{"info": "e{i}", "Attribute": [{{"type": "text", "value": "{i}"}}]}}}}"#
        ));
    }
    doc.push_str("]}");
    let mut from_reader = Vec::new();
    json::stream_reader(
        std::io::BufReader::new(doc.as_bytes()),
        Path::new("big.json"),
        |item| {
            from_reader.push(item.unwrap());
            ControlFlow::Continue(())
        },
    );
    assert_eq!(from_reader, json::parse_events(doc.as_bytes()).unwrap());
    assert_eq!(from_reader.len(), 500);
    assert_eq!(from_reader[499].attributes[0].value, "499");
}

// ---------------------------------------------------------------------
// Files, feeds, directories
// ---------------------------------------------------------------------

#[test]
fn read_file_names_the_file_in_errors() {
    let dir = temp_dir("read-file");
    let path = dir.join("broken.json");
    fs::write(&path, "{\"Event\": {\"info\": \"x\"\n").unwrap();
    match json::read_file(&path) {
        Err(Error::Json {
            path: p, line: 2, ..
        }) => assert_eq!(p, path),
        other => panic!("{other:?}"),
    }
    match json::read_file(dir.join("missing.json")) {
        Err(Error::Io { path: p, .. }) => assert_eq!(p, dir.join("missing.json")),
        other => panic!("{other:?}"),
    }
}

/// A feed with four manifest entries: two good files, one malformed, one
/// missing; plus a file the manifest does not list and a `hashes.csv`.
fn make_feed(name: &str) -> (PathBuf, [&'static str; 4]) {
    let dir = temp_dir(name);
    let uuids = [
        "20000000-0000-4000-8000-000000000000",
        "10000000-0000-4000-8000-000000000000",
        "30000000-0000-4000-8000-000000000000",
        "40000000-0000-4000-8000-000000000000",
    ];
    let manifest: Vec<String> = uuids
        .iter()
        .map(|u| format!(r#""{u}": {{"info": "summary", "Tag": []}}"#))
        .collect();
    fs::write(
        dir.join("manifest.json"),
        format!("{{{}}}", manifest.join(",")),
    )
    .unwrap();
    fs::write(
        dir.join(format!("{}.json", uuids[0])),
        event_doc(uuids[0], "second by name", &["b.example"]),
    )
    .unwrap();
    fs::write(
        dir.join(format!("{}.json", uuids[1])),
        event_doc(uuids[1], "first by name", &["a.example", "c.example"]),
    )
    .unwrap();
    fs::write(
        dir.join(format!("{}.json", uuids[2])),
        "{\"Event\": {\"info\": \n",
    )
    .unwrap();
    fs::write(
        dir.join("50000000-0000-4000-8000-000000000000.json"),
        event_doc("50000000-0000-4000-8000-000000000000", "unlisted", &[]),
    )
    .unwrap();
    fs::write(
        dir.join("hashes.csv"),
        "a8ba23fe226c0220aded7950d4065231,20000000-0000-4000-8000-000000000000\n",
    )
    .unwrap();
    (dir, uuids)
}

#[test]
fn a_feed_loads_in_manifest_order_and_loses_only_bad_entries() {
    let (dir, uuids) = make_feed("feed");
    let items: Vec<_> = json::load([&dir]).collect();
    assert_eq!(items.len(), 4, "{items:?}");
    assert_eq!(
        items[0].as_ref().unwrap().uuid,
        uuids[0],
        "manifest order, not name order"
    );
    assert_eq!(items[1].as_ref().unwrap().uuid, uuids[1]);
    match &items[2] {
        Err(Error::Json { path, line: 2, .. }) => {
            assert_eq!(path, &dir.join(format!("{}.json", uuids[2])))
        }
        other => panic!("{other:?}"),
    }
    match &items[3] {
        Err(Error::Invalid { path, message }) => {
            assert_eq!(path, &dir.join(format!("{}.json", uuids[3])));
            assert!(message.contains("missing"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn parallel_and_sequential_loads_agree() {
    let (dir, _) = make_feed("feed-parallel");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    let inputs = [dir.clone(), fixtures];
    let sequential: Vec<String> = json::load(&inputs)
        .map(|item| format!("{item:?}"))
        .collect();
    let parallel: Vec<String> = json::load_parallel(&inputs)
        .into_iter()
        .map(|item| format!("{item:?}"))
        .collect();
    assert_eq!(sequential, parallel);
    let streamed: Vec<String> = Inputs::new(&inputs)
        .in_memory_limit(0)
        .map(|item| format!("{item:?}"))
        .collect();
    assert_eq!(
        sequential, streamed,
        "files parsed on the streaming thread give the same items"
    );
    let windows: [(usize, u64, u64); 4] = [
        (1, 0, json::IN_MEMORY_LIMIT),
        (3, 1, json::IN_MEMORY_LIMIT),
        (64, 1 << 30, json::IN_MEMORY_LIMIT),
        (4, 1 << 20, 0),
    ];
    for (files, bytes, limit) in windows {
        let ahead = || -> Vec<String> {
            ParallelInputs::new(&inputs)
                .read_ahead(files, bytes)
                .in_memory_limit(limit)
                .map(|item| format!("{item:?}"))
                .collect()
        };
        assert_eq!(sequential, ahead(), "window {files} files, {bytes} bytes");
        // A consumer on the pool itself, a pool of one thread included,
        // reads the files it reaches first and never waits for a task
        // that needs its thread.
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            assert_eq!(sequential, pool.install(ahead), "{threads} threads");
        }
    }
    let mut inputs_left = ParallelInputs::new(&inputs);
    let total = inputs_left.files_remaining();
    assert!(total > 0);
    assert!(inputs_left.next().is_some());
    assert!(inputs_left.files_remaining() <= total);
    drop(inputs_left);

    let a = LoadSummary::from_paths(&inputs);
    let b = LoadSummary::from_paths_parallel(&inputs);
    assert_eq!(a.events(), b.events());
    assert_eq!(a.attributes(), b.attributes());
    assert_eq!(a.types(), b.types());
    assert_eq!(a.rejected(), b.rejected());
    let messages = |s: &LoadSummary| {
        s.errors()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(messages(&a), messages(&b));
}

/// An item of a document as the owned readers give it, as text.
fn owned_item(item: &Result<BorrowedEvent<'_>, Error>) -> String {
    match item {
        Ok(event) => format!("{:?}", Ok::<Event, ()>(event.to_event())),
        Err(error) => format!("{:?}", Err::<(), &Error>(error)),
    }
}

#[test]
fn documents_give_what_the_owned_readers_give() {
    let (dir, _) = make_feed("feed-documents");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    let inputs = [dir.clone(), fixtures];
    let sequential: Vec<String> = json::load(&inputs)
        .map(|item| match item {
            Ok(event) => format!("{:?}", Ok::<Event, ()>(event)),
            Err(error) => format!("{:?}", Err::<(), &Error>(&error)),
        })
        .collect();
    assert!(sequential.len() > 4);
    for (files, bytes, limit) in [
        (1, 0, json::IN_MEMORY_LIMIT),
        (32, 1 << 20, json::IN_MEMORY_LIMIT),
        (4, 1 << 20, 0),
    ] {
        let documents = || -> Vec<String> {
            ParallelDocuments::new(&inputs)
                .read_ahead(files, bytes)
                .in_memory_limit(limit)
                .flat_map(|document| document.events().iter().map(owned_item).collect::<Vec<_>>())
                .collect()
        };
        assert_eq!(
            sequential,
            documents(),
            "window {files} files, limit {limit}"
        );
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            assert_eq!(sequential, pool.install(documents), "{threads} threads");
        }
    }
    // Each file is one document, named by its path.
    let file = dir.join("20000000-0000-4000-8000-000000000000.json");
    let document = Document::read(&file);
    assert_eq!(document.path(), file);
    assert_eq!(document.events().len(), 1);
    let missing = Document::read(dir.join("missing.json"));
    assert!(
        matches!(missing.events(), [Err(Error::Io { path, .. })] if path == &dir.join("missing.json"))
    );
}

#[test]
fn borrowed_events_borrow_what_needs_no_decoding() {
    let json = br#"{"Event": {"uuid": "5A4CB19A-F550-437F-BD29-48ED950D210F", "info": "caf\u00e9",
        "Tag": [{"name": "tlp:clear"}],
        "Attribute": [{"type": "url", "value": "http:\/\/a.example\n", "category": "Network activity"},
                      {"type": "ip-dst|port", "value1": "192.0.2.1", "value2": "80"},
                      {"type": "text", "value": 42}]}}"#;
    let document = Document::parse(json.to_vec(), "doc.json");
    let event = document.events()[0].as_ref().unwrap();
    assert!(
        matches!(&event.uuid, Cow::Owned(u) if u == EVENT_UUID),
        "lower-cased"
    );
    assert!(
        matches!(&event.info, Cow::Owned(i) if i == "café"),
        "escape decoded"
    );
    assert!(matches!(&event.tags[..], [Cow::Borrowed("tlp:clear")]));
    let [url, composite, number] = &event.attributes[..] else {
        panic!("{event:?}");
    };
    assert!(matches!(&url.type_name, Cow::Borrowed("url")));
    assert!(matches!(
        &url.category,
        Some(Cow::Borrowed("Network activity"))
    ));
    assert_eq!(url.value, "http://a.example\n");
    assert_eq!(composite.value, "192.0.2.1|80");
    assert_eq!(number.value, "42");
    assert_eq!(
        event.to_event(),
        one_event(std::str::from_utf8(json).unwrap())
    );
}

#[test]
fn a_malformed_manifest_is_an_error_and_the_directory_is_still_read() {
    let (dir, uuids) = make_feed("bad-manifest");
    fs::write(
        dir.join("manifest.json"),
        "{\"20000000-0000-4000-8000-000000000000\": ",
    )
    .unwrap();
    let items: Vec<_> = json::load([&dir]).collect();
    match &items[0] {
        Err(Error::Json { path, .. }) => assert_eq!(path, &dir.join("manifest.json")),
        other => panic!("{other:?}"),
    }
    let infos: Vec<String> = items
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .map(|e| e.info.clone())
        .collect();
    assert_eq!(
        infos,
        ["first by name", "second by name", "unlisted"],
        "sorted file names"
    );
    assert!(items.iter().any(|i| matches!(i, Err(Error::Json { path, .. }) if path.ends_with(format!("{}.json", uuids[2])))));
}

#[test]
fn manifest_keys_must_be_uuids() {
    let dir = temp_dir("manifest-keys");
    fs::write(
        dir.join("manifest.json"),
        r#"{"../../etc/passwd": {}, "10000000-0000-4000-8000-000000000000": {}}"#,
    )
    .unwrap();
    fs::write(
        dir.join("10000000-0000-4000-8000-000000000000.json"),
        event_doc("10000000-0000-4000-8000-000000000000", "ok", &[]),
    )
    .unwrap();
    assert_eq!(
        json::read_manifest(dir.join("manifest.json")).unwrap(),
        ["../../etc/passwd", "10000000-0000-4000-8000-000000000000"]
    );
    let items: Vec<_> = json::load([&dir]).collect();
    match &items[0] {
        Err(Error::Invalid { message, .. }) => {
            assert!(message.contains("not an event uuid"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(items[1].as_ref().unwrap().info, "ok");
}

#[test]
fn directories_are_walked_sorted_and_recursively() {
    let dir = temp_dir("walk");
    fs::create_dir_all(dir.join("b-sub")).unwrap();
    fs::create_dir_all(dir.join(".hidden")).unwrap();
    fs::write(dir.join("c.json"), r#"{"info": "c"}"#).unwrap();
    fs::write(dir.join("a.JSON"), r#"{"info": "a"}"#).unwrap();
    fs::write(dir.join("b-sub/x.json"), r#"{"info": "b/x"}"#).unwrap();
    fs::write(dir.join(".hidden/h.json"), r#"{"info": "hidden"}"#).unwrap();
    fs::write(dir.join("notes.txt"), "not json").unwrap();
    fs::write(dir.join("LICENSE"), "text").unwrap();
    let files = json::discover([&dir]);
    let names: Vec<PathBuf> = files
        .into_iter()
        .map(|f| f.unwrap().strip_prefix(&dir).unwrap().to_path_buf())
        .collect();
    assert_eq!(
        names,
        [
            PathBuf::from("a.JSON"),
            PathBuf::from("b-sub/x.json"),
            PathBuf::from("c.json")
        ]
    );
    let missing = dir.join("nope");
    match &json::discover([&missing])[..] {
        [Err(Error::Io { path, .. })] => assert_eq!(path, &missing),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------
// Load summary
// ---------------------------------------------------------------------

#[test]
fn the_summary_counts_and_rejects() {
    let doc = format!(
        r#"{{"uuid": "{EVENT_UUID}", "info": "x", "Attribute": [
            {{"type": "domain", "value": "example.com", "uuid": "aaaaaaaa-0000-4000-8000-000000000001"}},
            {{"type": "not-a-type", "value": "v"}},
            {{"type": "domain", "value": "   "}}],
            "Object": [{{"name": "o", "Attribute": [{{"type": "md5", "value": "a8ba23fe226c0220aded7950d4065231"}}]}}]}}"#
    );
    let dir = temp_dir("summary");
    fs::write(dir.join("e.json"), &doc).unwrap();
    fs::write(dir.join("f.json"), "[").unwrap();
    let summary = LoadSummary::from_paths([&dir]);
    assert_eq!(summary.events(), 1);
    assert_eq!(summary.attributes(), 4);
    assert_eq!(summary.types().get("domain"), Some(&2));
    assert_eq!(summary.types().get("not-a-type"), Some(&1));
    assert_eq!(summary.types().get("md5"), Some(&1));
    let rejected = summary.rejected();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_eq!(rejected[0].event, EVENT_UUID);
    assert_eq!(rejected[0].attribute, format!("{EVENT_UUID}:1"));
    assert_eq!(rejected[0].type_name, "not-a-type");
    assert!(
        rejected[0]
            .reason
            .contains("Unknown attribute type \"not-a-type\""),
        "{}",
        rejected[0].reason
    );
    assert_eq!(rejected[1].attribute, format!("{EVENT_UUID}:2"));
    assert_eq!(rejected[1].value, "   ");
    let ty = misp_core::AttributeType::from_name("domain").unwrap();
    assert_eq!(
        rejected[1].reason,
        misp_core::normalize(ty, "   ").unwrap_err().reason()
    );
    assert_eq!(summary.errors().len(), 1);
    assert_eq!(
        summary.errors()[0].path(),
        Some(dir.join("f.json").as_path())
    );
}

#[test]
fn summaries_merge_in_order() {
    let events = json::parse_events(br#"[{"info": "a", "Attribute": [{"type": "x-unknown", "value": "1"}]}, {"info": "b", "Attribute": [{"type": "x-unknown", "value": "2"}]}]"#).unwrap();
    let mut whole = LoadSummary::new();
    events.iter().for_each(|e| whole.add_event(e));
    let mut first = LoadSummary::new();
    first.add_event(&events[0]);
    let mut second = LoadSummary::new();
    second.add_event(&events[1]);
    first.merge(second);
    assert_eq!(first.rejected(), whole.rejected());
    assert_eq!(first.types(), whole.types());
    assert_eq!(first.events(), 2);
}
